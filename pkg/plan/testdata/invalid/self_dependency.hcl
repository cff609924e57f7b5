# want: 3:16 | Dependency cycle between images | image.a → image.a
image "a" {
  depends_on = [image.a]
}
