# want: 3:16 | Invalid named context | must be inside
image "app" {
  contexts = { up = "../full" }
}
