"""Run by tests/test_distributed.py under `torchrun --nproc_per_node 2` (gloo, CPU): the gathered contrastive loss
and `fit` with two processes, written to the JSON file named by the first argument (rank 0)."""
import json, math, sys
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset
from musechat.train import init_distributed, cmc_loss, rank, world_size, fit, TrainSettings

class Pairs(Dataset):
    def __init__(self, n=64, dim=6):
        g = torch.Generator().manual_seed(5)
        z = torch.randn(n, 3, generator=g)
        self.a, self.b = z @ torch.randn(3, dim, generator=g), z @ torch.randn(3, dim, generator=g) + .3 * torch.randn(n, dim, generator=g)
    def __len__(self): return len(self.a)
    def __getitem__(self, i): return {'a': self.a[i], 'b': self.b[i]}

class Towers(nn.Module):
    def __init__(self, dim=6):
        super().__init__()
        self.fa, self.fb = nn.Linear(dim, 4), nn.Linear(dim, 4)
        self.log_temperature = nn.Parameter(torch.tensor(math.log(.1)))
    @property
    def temperature(self): return self.log_temperature.exp()
    def forward(self, a, b):
        return {'loss': cmc_loss(F.normalize(self.fa(a), dim=-1), F.normalize(self.fb(b), dim=-1), self.temperature)}

def global_batch(n=8, dim=6):
    g = torch.Generator().manual_seed(1)
    return torch.randn(n, dim, generator=g), torch.randn(n, dim, generator=g)

def main(path, out_dir):
    init_distributed('cpu')
    from torch.nn.parallel import DistributedDataParallel
    r, n = rank(), world_size()
    a, b = global_batch()
    k = len(a) // n
    torch.manual_seed(0); model = Towers()
    ddp = DistributedDataParallel(model)
    loss = ddp(a[r * k:(r + 1) * k], b[r * k:(r + 1) * k])['loss']
    loss.backward()
    mean = loss.detach().clone(); torch.distributed.all_reduce(mean); mean /= n
    grads = {name: p.grad.tolist() for name, p in model.named_parameters()}
    torch.manual_seed(0)
    res = fit(Towers(), Pairs(), TrainSettings(epochs=3, batch_size=4, lr=1e-2, warmup=2), device='cpu', out=out_dir, progress=False)
    if r == 0:
        json.dump({'world_size': n, 'loss': mean.item(), 'grads': grads, 'backend': torch.distributed.get_backend(),
                   'fit_weights': {k: v.tolist() for k, v in res.model.state_dict().items()}, 'fit_steps': res.step,
                   'fit_losses': [h['loss'] for h in res.history]}, open(path, 'w'))
    torch.distributed.destroy_process_group()

if __name__ == '__main__': main(sys.argv[1], sys.argv[2])
