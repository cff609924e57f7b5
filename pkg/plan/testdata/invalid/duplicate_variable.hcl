# want: 3:10 | Duplicate variable block | 
variable "a" { default = 1 }
variable "a" { default = 2 }
