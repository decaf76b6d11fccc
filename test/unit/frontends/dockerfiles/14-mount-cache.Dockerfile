FROM {{REGISTRY}}/test/busybox
RUN --mount=type=cache,target=/var/cache echo cached
RUN --mount=type=cache,id=c1,target=/c,sharing=locked,uid=1000,mode=0700 echo c
