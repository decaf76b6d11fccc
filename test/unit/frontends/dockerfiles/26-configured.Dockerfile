FROM {{REGISTRY}}/test/configured
RUN echo $FOO && id
WORKDIR rel
COPY x .
