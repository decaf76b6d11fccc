FROM {{REGISTRY}}/test/busybox
RUN --mount=type=ssh ls
RUN --mount=type=ssh,id=key,target=/ssh,required ls
