{#- dbt_amplitude's `event` source, from the connector's `events` table: every column dbt_amplitude reads, with its
    name and type, then every other column of ours under its own name. One row per client event: Amplitude keeps an
    event re-uploaded after its 7-day insert_id window as a new event (a new uuid); here only the first upload of each
    (event_id, device_id, client_event_time, user) is kept, the user being user_id or else amplitude_id: the key of
    dbt_amplitude's unique_event_id. The raw table keeps
    every upload. -#}
{%- set events = source("amplitude_airbyte", "events") -%}
{%- set events_list = source("amplitude_airbyte", "events_list") -%}
{%- set ours = amplitude_airbyte_columns_by_name(events) -%}
{%- set types = amplitude_airbyte_columns_by_name(events_list) -%}
{%- set theirs = amplitude_airbyte_event_columns() -%}
{%- set taken = theirs | map(attribute="name") | list -%}
{%- set type_key = amplitude_airbyte_find(types, ["value", "name"]) -%}

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
)

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
