FROM {{REGISTRY}}/test/busybox
RUN --network=none echo isolated
RUN --network=host echo host
