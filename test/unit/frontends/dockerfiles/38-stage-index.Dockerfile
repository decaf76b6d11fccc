FROM {{REGISTRY}}/test/busybox
RUN echo zero > /zero
FROM {{REGISTRY}}/test/busybox AS named
RUN echo one > /one
FROM scratch
COPY --from=0 /zero /
COPY --from=named /one /
CMD ["/one"]
