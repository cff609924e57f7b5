# want: 3:39 | Invalid secret | declared twice
image "app" {
  secrets = [{ id = "a", env = "A" }, { id = "a", env = "B" }]
}
