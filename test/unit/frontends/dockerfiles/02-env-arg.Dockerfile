FROM {{REGISTRY}}/test/busybox
ARG A=1
ENV B=$A C="two words"
RUN echo $B $C
