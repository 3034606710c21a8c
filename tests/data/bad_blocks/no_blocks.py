import torch

VALUE = 1
