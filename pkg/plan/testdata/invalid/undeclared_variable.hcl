# want: 3:12 | Reference to undeclared variable | No variable named "stage"
image "app" {
  target = var.stage
}
