FROM {{REGISTRY}}/test/busybox AS a
RUN echo a
FROM {{REGISTRY}}/test/busybox AS b
RUN echo b
FROM scratch AS c
COPY --from=a /etc /etc
