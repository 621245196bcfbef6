{% macro tinyduck_hello() %}select 1{% endmacro %}
