# want: 3:16 | Invalid named context | is not a directory
image "app" {
  contexts = { src = "nowhere" }
}
