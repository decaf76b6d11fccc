FROM {{REGISTRY}}/test/busybox
RUN --mount=type=secret,id=token cat /run/secrets/token
RUN --mount=type=secret,id=s2,target=/s,required,mode=0440,uid=5 cat /s
