FROM {{REGISTRY}}/test/busybox
COPY --chown=nobody:nogroup a b /d/
