FROM {{REGISTRY}}/test/busybox
ADD http://127.0.0.1:1/file.txt /downloads/
ADD https://example.com/ /x
