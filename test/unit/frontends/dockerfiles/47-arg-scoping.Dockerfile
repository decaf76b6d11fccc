ARG V=global
FROM {{REGISTRY}}/test/busybox AS one
ARG V
RUN echo $V > /v
FROM one AS two
RUN echo ${V:-unset} > /w
ARG V=local
ENV E=$V
FROM two
ONBUILD RUN echo later
HEALTHCHECK --interval=5s --timeout=2s --start-period=1s --retries=2 CMD ["true"]
USER 1000:1000
