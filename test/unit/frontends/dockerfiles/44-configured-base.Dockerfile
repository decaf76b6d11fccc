FROM {{REGISTRY}}/test/configured AS base
ENV FOO=baz
USER root
RUN echo $FOO
FROM base
WORKDIR sub
CMD ["run"]
