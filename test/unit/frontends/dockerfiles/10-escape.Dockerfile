# escape=`
FROM {{REGISTRY}}/test/busybox
RUN echo a `
  b
