# want: 3:52 | Invalid named context | "alpine" names the same image
image "app" {
  contexts = { alpine = "docker-image://alpine:3", "alpine:latest" = "docker-image://alpine:3.20" }
}
