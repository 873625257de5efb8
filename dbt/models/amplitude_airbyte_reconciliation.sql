{#- Exactly once, checked in the warehouse: one row per upload hour of `events`, the records the connector's
    events_ledger says it emitted (the latest row of each part: a part read again after a kill is counted once)
    against the distinct uuids and the rows the warehouse holds, with a status:
      ok                      the warehouse holds every event the ledger lists, once
      missing                 fewer distinct events than the ledger lists (rows lost or deleted)
      duplicated              as many events, but some more than once (an Append table, not deduplicated)
      more_than_ledger        events the ledger does not list (synced before events_ledger was selected)
      given_up_empty          Amplitude published nothing for the hour within the grace period (not a loss)
      given_up_incomplete     some partitions never came; those that did are counted
    Events deleted on purpose (docs/amplitude.md, "Deleting users in the warehouse") are accounted for when their
    per-hour counts are recorded in the table the var amplitude_airbyte_deleted_events_identifier names. -#}
{{ config(enabled=var("amplitude_airbyte_reconciliation", true)) }}
{%- set events = source("amplitude_airbyte", "events") -%}
{%- set ledger = source("amplitude_airbyte", "events_ledger") -%}
{%- set deleted = var("amplitude_airbyte_deleted_events_identifier", none) -%}

with ledger_parts as (
    select
        {{ amplitude_airbyte_utc_timestamp("upload_hour") }} as upload_hour,
        records,
        status,
        row_number() over (partition by stream, upload_hour, part order by read_at desc) as nth
    from {{ ledger }}
    where stream = 'events'
),

ledger_hours as (
    select
        upload_hour,
        sum(records) as ledger_records,
        max(case when status = 'given_up_incomplete' then 2 when status = 'given_up_empty' then 1 else 0 end)
            as given_up
    from ledger_parts
    where nth = 1
    group by upload_hour
),

warehouse_hours as (
    select
        {{ dbt.date_trunc("hour", amplitude_airbyte_utc_timestamp("server_upload_time")) }} as upload_hour,
        count(*) as warehouse_rows,
        count(distinct uuid) as warehouse_events
    from {{ events }}
    group by 1
),

deleted_hours as (
{%- if deleted %}
    select {{ amplitude_airbyte_utc_timestamp("upload_hour") }} as upload_hour, sum(events) as deleted_events
    from {{ adapter.quote(var("amplitude_airbyte_schema", "amplitude")) }}.{{ adapter.quote(deleted) }}
    group by 1
{%- else %}
    select cast(null as {{ dbt.type_timestamp() }}) as upload_hour, cast(0 as {{ dbt.type_bigint() }}) as deleted_events
    where 1 = 0
{%- endif %}
),

hours as (
    select
        coalesce(l.upload_hour, w.upload_hour) as upload_hour,
        coalesce(l.ledger_records, 0) as ledger_records,
        coalesce(d.deleted_events, 0) as deleted_events,
        coalesce(w.warehouse_events, 0) as warehouse_events,
        coalesce(w.warehouse_rows, 0) as warehouse_rows,
        l.upload_hour is not null as in_ledger,
        coalesce(l.given_up, 0) as given_up
    from ledger_hours l
    full outer join warehouse_hours w on l.upload_hour = w.upload_hour
    left join deleted_hours d on d.upload_hour = coalesce(l.upload_hour, w.upload_hour)
)

select
    upload_hour,
    ledger_records,
    deleted_events,
    warehouse_events,
    warehouse_rows,
    warehouse_events - (ledger_records - deleted_events) as difference,
    case
        when not in_ledger then 'more_than_ledger'
        when warehouse_events < ledger_records - deleted_events then 'missing'
        when warehouse_rows > warehouse_events then 'duplicated'
        when warehouse_events > ledger_records - deleted_events then 'more_than_ledger'
        when given_up = 2 then 'given_up_incomplete'
        when given_up = 1 and ledger_records = 0 then 'given_up_empty'
        else 'ok'
    end as status
from hours
