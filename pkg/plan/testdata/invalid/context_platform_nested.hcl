# want: 9:14 | Named context not built for this platform | a platform of image "app", which uses it, but its context "tools", image.tools, is built only for linux/amd64, linux/s390x
image "app" {
  platforms = ["linux/amd64", "linux/arm64"]
  contexts  = { base = image.base }
}

image "base" {
  target   = "base"
  contexts = { tools = image.tools }
}

image "tools" {
  target    = "tools"
  platforms = ["linux/amd64", "linux/s390x"]
}
