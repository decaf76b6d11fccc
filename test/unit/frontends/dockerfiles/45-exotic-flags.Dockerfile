# escape=\
ARG BASE={{REGISTRY}}/test/busybox
FROM --platform=$BUILDPLATFORM ${BASE} AS tools
ARG TARGETOS TARGETARCH
RUN --mount=type=cache,id=gomod,target=/go/pkg/mod,sharing=locked,uid=1000,gid=1000,mode=0750 \
    --mount=type=tmpfs,target=/tmp,size=64m \
    echo "$TARGETOS/$TARGETARCH" > /built
RUN --network=none true
FROM ${BASE}
COPY --from=tools --chmod=0755 /built /usr/local/bin/
COPY --link --chown=10:20 a b /dst/
ADD --link --chmod=600 file /added
ENV A=1 B="two words" C=${A}x
ENV LEGACY value with spaces
LABEL "multi word"="v" other=1
EXPOSE 80/udp 443
STOPSIGNAL SIGQUIT
VOLUME ["/data", "/logs"]
WORKDIR $C/sub
SHELL ["/bin/sh", "-ec"]
RUN echo "${B:-none} ${UNSET:+set}"
CMD echo shell form
