{#- dbt_amplitude's `event` source, from the connector's `events` table: every column dbt_amplitude reads, with its
    name and type, then every other column of ours under its own name. One row per client event: Amplitude keeps an
    event re-uploaded after its 7-day insert_id window as a new event (a new uuid); here only the first upload of each
    (event_id, device_id, client_event_time, user) is kept, the user being user_id or else amplitude_id: the key of
    dbt_amplitude's unique_event_id. The raw table keeps every upload.

    Incremental, as a table: a run reads only the rows Airbyte extracted since the newest one the table holds, less
    amplitude_airbyte_incremental_lookback_hours (3), replaces the rows it finds again (by uuid), and leaves out a row whose client event the table already holds from an earlier upload
    (looked up among the rows uploaded from amplitude_airbyte_reupload_lookback_days before the last run on). A full
    refresh gives the same rows, unless a first upload reaches the warehouse after its own re-upload, or more than
    that many days after it (both would need Amplitude to export a file days late): then run it with --full-refresh.
-#}
{{ config(
    materialized="incremental",
    unique_key="uuid",
    incremental_strategy=var("amplitude_airbyte_incremental_strategy", "delete+insert"),
    on_schema_change="append_new_columns",
) }}
{%- set events = source("amplitude_airbyte", "events") -%}
{%- set events_list = source("amplitude_airbyte", "events_list") -%}
{%- set ours = amplitude_airbyte_columns_by_name(events) -%}
{%- set types = amplitude_airbyte_columns_by_name(events_list) -%}
{%- set theirs = amplitude_airbyte_event_columns() -%}
{%- set taken = theirs | map(attribute="name") | list -%}
{%- set type_key = amplitude_airbyte_find(types, ["value", "name"]) -%}
{%- set extracted = amplitude_airbyte_find(ours, ["_airbyte_extracted_at"]) -%}

with event_types as (
    select {{ type_key }} as event_type_key, min({{ adapter.quote(types["id"]) }}) as event_type_id
    from {{ events_list }}
    group by {{ type_key }}
),

first_uploads as (
    select
        *,
        row_number() over (
            partition by
                {{ amplitude_airbyte_find(ours, ["event_id"]) or "null" }},
                {{ amplitude_airbyte_find(ours, ["device_id"]) or "null" }},
                {{ amplitude_airbyte_find(ours, ["client_event_time"]) or "null" }},
                coalesce(
                    cast({{ amplitude_airbyte_find(ours, ["user_id"]) or "null" }} as {{ dbt.type_string() }}),
                    cast({{ amplitude_airbyte_find(ours, ["amplitude_id"]) or "null" }} as {{ dbt.type_string() }})
                )
            order by {{ amplitude_airbyte_find(ours, ["server_upload_time"]) }}, {{ adapter.quote(ours["uuid"]) }}
        ) as _amplitude_airbyte_upload
    from {{ events }}
    {%- if is_incremental() %}
    {#- the bound as a literal, so that the database filters while it scans (a subquery here would not be) -#}
    where {{ extracted }} > {{ amplitude_airbyte_utc_literal(dbt.dateadd(
        "hour", -1 * var("amplitude_airbyte_incremental_lookback_hours", 3), amplitude_airbyte_synced_until(this)
    )) }}
    {%- endif %}
),

shaped as (
select
{%- for column in theirs %}
    {%- if column["from"] == "event_type_lookup" %}
    {{ amplitude_airbyte_cast("event_types.event_type_id", column["type"]) }} as {{ adapter.quote(column["name"]) }},
    {%- else %}
    {%- set found = amplitude_airbyte_find(ours, column["from"]) %}
    {{ amplitude_airbyte_cast("first_uploads." ~ found if found else none, column["type"]) }} as {{ adapter.quote(column["name"]) }},
    {%- endif %}
{%- endfor %}
{%- for lowered, name in ours.items() if lowered not in taken and lowered != "_amplitude_airbyte_upload" %}
    first_uploads.{{ adapter.quote(name) }}{{ "," if not loop.last }}
{%- endfor %}
from first_uploads
left join event_types
    on first_uploads.{{ adapter.quote(ours["event_type"]) }} = event_types.event_type_key
where first_uploads._amplitude_airbyte_upload = 1
)

{%- if is_incremental() %},

modelled as (
    {#- the client events the table holds, uploaded within the re-upload window, of the devices and event ids
        arriving (a hash join on two columns, so that only those rows build a key) -#}
    select {{ amplitude_airbyte_event_key("earlier") }} as event_key, min(earlier.server_upload_time) as first_upload
    from {{ this }} as earlier
    inner join (
        select distinct coalesce(device_id, '') as device_key, coalesce(id, -1) as id_key from shaped
    ) as arriving
        on coalesce(earlier.device_id, '') = arriving.device_key and coalesce(earlier.id, -1) = arriving.id_key
    where earlier.server_upload_time >= {{ dbt.dateadd(
        "day", -1 * var("amplitude_airbyte_reupload_lookback_days", 30), amplitude_airbyte_synced_until(this)
    ) }}
    group by 1
)

select shaped.*
from shaped
left join modelled on modelled.event_key = {{ amplitude_airbyte_event_key("shaped") }}
where modelled.event_key is null or shaped.server_upload_time <= modelled.first_upload
{%- else %}

select * from shaped
{%- endif %}
