# want: 4:10 | Invalid type specification | 
variable "x" {
  default = "a"
  type = strin
}
