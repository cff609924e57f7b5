# want: 6:16 | Dependency cycle between images | image.a → image.b → image.a
image "a" {
  contexts = { b = image.b }
}
image "b" {
  depends_on = [image.a]
}
