{#- dbt_amplitude's `event_type` source, from the connector's `events_list` table (Amplitude's event types with their
    stable ids): every column dbt_amplitude reads, with its name and type, then every other column of ours. One row
    per id: the latest sync's (events_list is a full-refresh stream; with Append the table holds every sync's copy). -#}
{%- set events_list = source("amplitude_airbyte", "events_list") -%}
{%- set ours = amplitude_airbyte_columns_by_name(events_list) -%}
{%- set theirs = amplitude_airbyte_event_type_columns() -%}
{%- set taken = theirs | map(attribute="name") | list -%}
{%- set extracted = amplitude_airbyte_find(ours, ["_airbyte_extracted_at"]) -%}

with latest as (
    select
        *,
        row_number() over (
            partition by {{ adapter.quote(ours["id"]) }} order by {{ extracted or "null" }} desc
        ) as _amplitude_airbyte_latest
    from {{ events_list }}
)

select
{%- for column in theirs %}
    {%- if column["from"] == "false" %}
    {{ amplitude_airbyte_cast("false", column["type"]) }} as {{ adapter.quote(column["name"]) }},
    {%- elif column["from"] == "project_name_var" %}
    {%- set project = var("amplitude_airbyte_project_name", none) %}
    {{ amplitude_airbyte_cast("'" ~ project ~ "'" if project else none, column["type"]) }} as {{ adapter.quote(column["name"]) }},
    {%- else %}
    {%- set found = amplitude_airbyte_find(ours, column["from"]) %}
    {{ amplitude_airbyte_cast("latest." ~ found if found else none, column["type"]) }} as {{ adapter.quote(column["name"]) }},
    {%- endif %}
{%- endfor %}
{%- for lowered, name in ours.items() if lowered not in taken %}
    latest.{{ adapter.quote(name) }}{{ "," if not loop.last }}
{%- endfor %}
from latest
where _amplitude_airbyte_latest = 1
