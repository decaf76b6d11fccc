ARG BASE={{REGISTRY}}/test/busybox
ARG TAG=latest
FROM ${BASE}:${TAG} AS first
ARG TAG
RUN echo $TAG
