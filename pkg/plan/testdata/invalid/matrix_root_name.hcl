# want: 3:12 | Invalid matrix | "image" cannot be a matrix variable
image "app" {
  matrix = { image = ["a", "b"] }
  name   = "app-${image}"
}
