"""Settings for the whole test session."""

import torch

# The tests' torch calls are on tiny tensors: with torch's default thread pool each op waits for
# threads (about 5 ms per op on a busy 2-core machine instead of 0.2 ms). One thread, as the app uses.
torch.set_num_threads(1)
