# want: 3:12 | Invalid matrix | more than 1024 images
image "app" {
  matrix = { a = range(100), b = range(100) }
  name   = "app-${a}-${b}"
}
