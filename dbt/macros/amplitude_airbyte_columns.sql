{#- The columns dbt_amplitude 1.3.x reads from its `event` and `event_type` sources (its macros get_event_columns and
    get_event_type_columns), each with the type it expects and where our tables hold it: a list of candidate column
    names (Airbyte's destinations and PyAirbyte write `$schema` as `$schema` or `_schema`), or an expression kind. -#}

{% macro amplitude_airbyte_event_columns() %}
  {{ return([
    {"name": "_fivetran_synced", "type": "timestamp", "from": ["_airbyte_extracted_at"]},
    {"name": "_insert_id", "type": "string", "from": ["$insert_id", "_insert_id"]},
    {"name": "ad_id", "type": "string", "from": ["adid"]},
    {"name": "amplitude_id", "type": "string", "from": ["amplitude_id"]},
    {"name": "app", "type": "string", "from": ["app"]},
    {"name": "city", "type": "string", "from": ["city"]},
    {"name": "client_event_time", "type": "timestamp", "from": ["client_event_time"]},
    {"name": "client_upload_time", "type": "timestamp", "from": ["client_upload_time"]},
    {"name": "country", "type": "string", "from": ["country"]},
    {"name": "data", "type": "json_string", "from": ["data"]},
    {"name": "device_brand", "type": "string", "from": ["device_brand"]},
    {"name": "device_carrier", "type": "string", "from": ["device_carrier"]},
    {"name": "device_family", "type": "string", "from": ["device_family"]},
    {"name": "device_id", "type": "string", "from": ["device_id"]},
    {"name": "device_manufacturer", "type": "string", "from": ["device_manufacturer"]},
    {"name": "device_model", "type": "string", "from": ["device_model"]},
    {"name": "device_type", "type": "string", "from": ["device_type"]},
    {"name": "dma", "type": "string", "from": ["dma"]},
    {"name": "event_properties", "type": "json_string", "from": ["event_properties"]},
    {"name": "event_time", "type": "timestamp", "from": ["event_time"]},
    {"name": "event_type", "type": "string", "from": ["event_type"]},
    {"name": "event_type_id", "type": "int", "from": "event_type_lookup"},
    {"name": "group_properties", "type": "json_string", "from": ["group_properties"]},
    {"name": "groups", "type": "json_string", "from": ["groups"]},
    {"name": "id", "type": "int", "from": ["event_id"]},
    {"name": "idfa", "type": "string", "from": ["idfa"]},
    {"name": "ip_address", "type": "string", "from": ["ip_address"]},
    {"name": "is_attribution_event", "type": "boolean", "from": ["is_attribution_event"]},
    {"name": "language", "type": "string", "from": ["language"]},
    {"name": "library", "type": "string", "from": ["library"]},
    {"name": "location_lat", "type": "string", "from": ["location_lat"]},
    {"name": "location_lng", "type": "string", "from": ["location_lng"]},
    {"name": "os_name", "type": "string", "from": ["os_name"]},
    {"name": "os_version", "type": "string", "from": ["os_version"]},
    {"name": "paying", "type": "boolean", "from": ["paying"]},
    {"name": "platform", "type": "string", "from": ["platform"]},
    {"name": "processed_time", "type": "timestamp", "from": ["processed_time"]},
    {"name": "project_name", "type": "string", "from": ["app"]},
    {"name": "region", "type": "string", "from": ["region"]},
    {"name": "schema", "type": "int", "from": ["$schema", "_schema"]},
    {"name": "server_received_time", "type": "timestamp", "from": ["server_received_time"]},
    {"name": "server_upload_time", "type": "timestamp", "from": ["server_upload_time"]},
    {"name": "session_id", "type": "int", "from": ["session_id"]},
    {"name": "start_version", "type": "string", "from": ["start_version"]},
    {"name": "user_creation_time", "type": "timestamp", "from": ["user_creation_time"]},
    {"name": "user_id", "type": "string", "from": ["user_id"]},
    {"name": "user_properties", "type": "json_string", "from": ["user_properties"]},
    {"name": "uuid", "type": "string", "from": ["uuid"]},
    {"name": "version_name", "type": "string", "from": ["version_name"]}
  ]) }}
{% endmacro %}

{% macro amplitude_airbyte_event_type_columns() %}
  {{ return([
    {"name": "_fivetran_deleted", "type": "boolean", "from": "false"},
    {"name": "_fivetran_synced", "type": "timestamp", "from": ["_airbyte_extracted_at"]},
    {"name": "autohidden", "type": "boolean", "from": ["autohidden"]},
    {"name": "deleted", "type": "boolean", "from": ["deleted"]},
    {"name": "display", "type": "string", "from": ["display"]},
    {"name": "flow_hidden", "type": "boolean", "from": ["flow_hidden"]},
    {"name": "hidden", "type": "boolean", "from": ["hidden"]},
    {"name": "id", "type": "int", "from": ["id"]},
    {"name": "in_waitroom", "type": "boolean", "from": ["in_waitroom"]},
    {"name": "name", "type": "string", "from": ["name"]},
    {"name": "non_active", "type": "boolean", "from": ["non_active"]},
    {"name": "project_name", "type": "string", "from": "project_name_var"},
    {"name": "timeline_hidden", "type": "boolean", "from": ["timeline_hidden"]},
    {"name": "totals", "type": "int", "from": ["totals"]},
    {"name": "totals_delta", "type": "int", "from": ["totals_delta"]},
    {"name": "value", "type": "string", "from": ["value"]},
    {"name": "waitroom_approved", "type": "string", "from": ["waitroom_approved"]}
  ]) }}
{% endmacro %}

{#- The column among `candidates` (case-insensitive) in `columns_by_name` (lower-cased name -> name), quoted; none if
    the table has none of them. -#}
{% macro amplitude_airbyte_find(columns_by_name, candidates) %}
  {%- for candidate in candidates -%}
    {%- if candidate | lower in columns_by_name -%}
      {{ return(adapter.quote(columns_by_name[candidate | lower])) }}
    {%- endif -%}
  {%- endfor -%}
  {{ return(none) }}
{% endmacro %}

{% macro amplitude_airbyte_columns_by_name(relation) %}
  {%- set by_name = {} -%}
  {%- for column in adapter.get_columns_in_relation(relation) -%}
    {%- do by_name.update({column.name | lower: column.name}) -%}
  {%- endfor -%}
  {{ return(by_name) }}
{% endmacro %}

{#- `expression` as dbt_amplitude's type. JSON columns become their JSON text (dbt_amplitude reads them as strings). -#}
{% macro amplitude_airbyte_cast(expression, type) %}
  {%- if expression is none -%}
    {%- set expression = "null" -%}
  {%- endif -%}
  {%- if type == "json_string" -%}
    {{ amplitude_airbyte_json_text(expression) }}
  {%- elif type == "timestamp" -%}
    {{ amplitude_airbyte_utc_timestamp(expression) }}
  {%- elif type == "int" -%}
    cast({{ expression }} as {{ dbt.type_bigint() }})
  {%- elif type == "boolean" -%}
    cast({{ expression }} as {{ dbt.type_boolean() }})
  {%- else -%}
    cast({{ expression }} as {{ dbt.type_string() }})
  {%- endif -%}
{% endmacro %}

{% macro amplitude_airbyte_json_text(expression) %}
  {{ return(adapter.dispatch("amplitude_airbyte_json_text", "amplitude_airbyte")(expression)) }}
{% endmacro %}

{% macro default__amplitude_airbyte_json_text(expression) %}cast({{ expression }} as {{ dbt.type_string() }}){% endmacro %}

{% macro bigquery__amplitude_airbyte_json_text(expression) %}to_json_string({{ expression }}){% endmacro %}

{% macro snowflake__amplitude_airbyte_json_text(expression) %}to_json({{ expression }}){% endmacro %}

{#- The connector writes RFC 3339 in UTC. Airbyte's destinations store it as a timestamp with time zone (or text);
    PyAirbyte's Postgres cache as a timestamp without one, in the server's time zone. dbt_amplitude wants a timestamp
    without a zone, in UTC: so through a timestamp with time zone, which reads a zoneless one in the session's time
    zone, as the database itself does (tested on a Postgres server whose time zone is America/New_York). -#}
{% macro amplitude_airbyte_utc_timestamp(expression) %}
  {{ return(adapter.dispatch("amplitude_airbyte_utc_timestamp", "amplitude_airbyte")(expression)) }}
{% endmacro %}

{% macro default__amplitude_airbyte_utc_timestamp(expression) %}cast({{ expression }} as {{ dbt.type_timestamp() }}){% endmacro %}

{% macro duckdb__amplitude_airbyte_utc_timestamp(expression) %}cast(timezone('UTC', cast({{ expression }} as timestamptz)) as timestamp){% endmacro %}

{% macro postgres__amplitude_airbyte_utc_timestamp(expression) %}(cast({{ expression }} as timestamptz) at time zone 'UTC'){% endmacro %}

{#- A client event's key in amplitude_airbyte_event (dbt_amplitude's unique_event_id: id, device, time, user) as one
    text, so that the incremental run finds the events it already holds with one hash join. -#}
{% macro amplitude_airbyte_event_key(relation) %}
    {{- dbt.concat([
        "coalesce(cast(" ~ relation ~ ".id as " ~ dbt.type_string() ~ "), '')", "'|'",
        "coalesce(" ~ relation ~ ".device_id, '')", "'|'",
        "coalesce(cast(" ~ relation ~ ".client_event_time as " ~ dbt.type_string() ~ "), '')", "'|'",
        "coalesce(" ~ relation ~ ".user_id, " ~ relation ~ ".amplitude_id, '')",
    ]) -}}
{% endmacro %}

{#- The newest _fivetran_synced of the incremental table, as a timestamp literal (UTC, no zone), read when the model
    runs: a literal bound lets the database skip what it need not scan. -#}
{% macro amplitude_airbyte_synced_until(relation) %}
    {%- set newest = none -%}
    {%- if execute -%}
        {%- set newest = run_query("select max(" ~ adapter.quote("_fivetran_synced") ~ ") from " ~ relation).columns[0].values()[0] -%}
    {%- endif -%}
    {{- "cast('" ~ (newest if newest is not none else "1970-01-01 00:00:00") ~ "' as " ~ dbt.type_timestamp() ~ ")" -}}
{% endmacro %}

{#- A UTC timestamp without zone (expression) as a timestamp with time zone, to compare with Airbyte's
    _airbyte_extracted_at as it is stored (a timestamp with time zone; in PyAirbyte's Postgres cache one without, in
    the server's zone, which the comparison reads alike). -#}
{% macro amplitude_airbyte_utc_literal(expression) %}
  {{ return(adapter.dispatch("amplitude_airbyte_utc_literal", "amplitude_airbyte")(expression)) }}
{% endmacro %}

{% macro default__amplitude_airbyte_utc_literal(expression) %}cast({{ expression }} as timestamp with time zone){% endmacro %}

{% macro duckdb__amplitude_airbyte_utc_literal(expression) %}timezone('UTC', {{ expression }}){% endmacro %}

{% macro postgres__amplitude_airbyte_utc_literal(expression) %}(({{ expression }}) at time zone 'UTC'){% endmacro %}

{% macro bigquery__amplitude_airbyte_utc_literal(expression) %}timestamp({{ expression }}){% endmacro %}
