# forge builds its own container image: the static forge binary that
# `make image` puts in bin/image, on an empty base.
image "forge" {
  context    = "."
  dockerfile = "Dockerfile"
  tags       = ["forge:dev"]
}
