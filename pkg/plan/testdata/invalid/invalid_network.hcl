# want: 3:13 | Invalid network mode | "default", "none" or "host"
image "app" {
  network = "bridge"
}
