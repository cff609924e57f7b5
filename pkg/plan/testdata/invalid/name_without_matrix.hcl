# want: 3:3 | Image name without a matrix | Remove name, or add a matrix
image "app" {
  name = "other"
}
