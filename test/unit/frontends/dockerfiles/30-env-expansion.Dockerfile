FROM {{REGISTRY}}/test/busybox
ENV DIR=/opt/app
WORKDIR $DIR
COPY ${DIR:-x}/f $DIR/
RUN echo '$DIR' "$DIR"
