# forge's container image: the static binary and nothing else. Built by
# `make image`, which compiles bin/image/forge first.
FROM scratch
COPY bin/image/forge /usr/local/bin/forge
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/forge"]
