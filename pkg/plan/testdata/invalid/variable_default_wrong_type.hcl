# want: 2:1 | Invalid value for variable | not a number
variable "replicas" {
  type    = number
  default = "many"
}
