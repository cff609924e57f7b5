# want: 4:12 | Reference to undeclared variable | Did you mean "stage"?
variable "stage" { default = "prod" }
image "app" {
  target = var.stag
}
