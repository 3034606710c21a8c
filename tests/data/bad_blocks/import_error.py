import torch.nn as nn
import not_a_module_anywhere
