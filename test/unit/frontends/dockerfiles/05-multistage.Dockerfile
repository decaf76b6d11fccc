FROM {{REGISTRY}}/test/busybox AS build
RUN echo built > /out
FROM scratch
COPY --from=build /out /out
