FROM {{REGISTRY}}/test/busybox
MAINTAINER Jane Doe <jane@example.com>
ONBUILD COPY . /app/src
ONBUILD RUN echo building
LABEL "com.example.vendor"="ACME Inc" multi.line="one \
two"
