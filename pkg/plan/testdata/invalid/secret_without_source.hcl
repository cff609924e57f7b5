# want: 3:14 | Invalid secret | exactly one source
image "app" {
  secrets = [{ id = "npm" }]
}
