{#- A generic test on amplitude_airbyte_reconciliation: fails on every upload hour whose events are missing from the
    warehouse or held more than once, and names each of them in dbt's output (dbt itself would only count them). -#}
{% test amplitude_airbyte_nothing_missing(model) %}
{%- set failing_sql -%}
    select upload_hour, status, ledger_records, deleted_events, warehouse_events, warehouse_rows
    from {{ model }}
    where status in ('missing', 'duplicated')
{%- endset -%}
{%- if execute -%}
    {%- set failing = run_query(failing_sql ~ " order by upload_hour") -%}
    {%- for row in failing.rows -%}
        {{ log("amplitude_airbyte_reconciliation: upload hour " ~ row[0] ~ " is " ~ row[1] ~ ": the ledger lists "
               ~ row[2] ~ " events (" ~ row[3] ~ " deleted on purpose), the warehouse holds " ~ row[4]
               ~ " distinct events in " ~ row[5] ~ " rows", info=true) }}
    {%- endfor -%}
{%- endif %}
{{ failing_sql }}
{% endtest %}
