"""The MQTT gateway: a purpose-built MQTT 3.1.1/5 front for the `$aws/things/{thing}/jobs/...` namespace
(docs/mqtt.md). `iotcloud serve mqtt` runs it alone; `iotcloud up` starts it next to the APIs."""
