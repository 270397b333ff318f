from .batch import console

console()
