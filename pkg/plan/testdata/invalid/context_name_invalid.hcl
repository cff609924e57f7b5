# want: 3:16 | Invalid named context | FROM NAME
image "app" {
  contexts = { "Base" = "docker-image://alpine" }
}
