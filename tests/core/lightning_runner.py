"""Run by tests/core/test_lightning_on_ember.py with real torch and under
tests/torch_alias.py (``torch`` is ember): a LightningModule trained by
``pytorch_lightning.Trainer`` (3 epochs, validation, checkpointing) on seeded data and
weights; saves the logged metrics and final weights to an .npz.

    python [tests/torch_alias.py] tests/core/lightning_runner.py OUT.npz ROOT_DIR
"""

import sys

import numpy as np
import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class Net(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(8, 16)
        self.l2 = nn.Linear(16, 2)

    def forward(self, x):
        return self.l2(F.relu(self.l1(x)))

    def training_step(self, batch, i):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, i):
        x, y = batch
        self.log("val_loss", F.cross_entropy(self(x), y))

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=0.01)
        return [opt], [torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)]


rng = np.random.default_rng(0)
x = torch.from_numpy(rng.standard_normal((64, 8)).astype(np.float32))
y = (x[:, 0] > 0).long()
loader = DataLoader(TensorDataset(x, y), batch_size=16)
model = Net()
model.load_state_dict({k: torch.from_numpy(rng.standard_normal(tuple(v.shape))
                                           .astype(np.float32) * 0.3)
                       for k, v in model.state_dict().items()})
trainer = pl.Trainer(max_epochs=3, accelerator="cpu", devices=1, logger=False,
                     default_root_dir=sys.argv[2], enable_progress_bar=False,
                     enable_model_summary=True)
trainer.fit(model, loader, loader)
ckpt = trainer.checkpoint_callback.best_model_path
restored = Net.load_from_checkpoint(ckpt)
out = {"framework": np.array(torch.__name__),
       "metrics": np.array([float(trainer.callback_metrics[k]) for k in ("train_loss",
                                                                         "val_loss")])}
for k, v in model.state_dict().items():
    out["w." + k] = v.detach().numpy()
    out["r." + k] = restored.state_dict()[k].detach().numpy()
np.savez(sys.argv[1], **out)
