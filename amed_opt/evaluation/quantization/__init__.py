"""LSQ mixed-precision fake quantization (METHOD.md §7).

Typical use::

    qmodel = quantize_model(float_model, BitConfig.uniform(names, 8))  # a copy
    calibrate(qmodel, calibration_batches, device=device)  # signedness + initial steps
    set_bits(qmodel, other_config)  # switch bitwidths in place
    recalibrate_batchnorm(qmodel, calibration_batches, device=device)

See `docs/evaluator.md` for the design.
"""

from amed_opt.evaluation.quantization._apply import quantization_disabled
from amed_opt.evaluation.quantization._apply import quantize_model
from amed_opt.evaluation.quantization._apply import quantized_layers
from amed_opt.evaluation.quantization._apply import set_bits
from amed_opt.evaluation.quantization._calibration import calibrate
from amed_opt.evaluation.quantization._calibration import recalibrate_batchnorm
from amed_opt.evaluation.quantization._lsq import MIN_STEP
from amed_opt.evaluation.quantization._lsq import fake_quantize
from amed_opt.evaluation.quantization._lsq import fused_fake_quantize
from amed_opt.evaluation.quantization._lsq import mse_optimal_step
from amed_opt.evaluation.quantization._lsq import quant_range
from amed_opt.evaluation.quantization._modules import QuantConv2d
from amed_opt.evaluation.quantization._modules import QuantizedLayer
from amed_opt.evaluation.quantization._modules import QuantLinear
from amed_opt.evaluation.quantization._quantizer import ActivationQuantizer
from amed_opt.evaluation.quantization._quantizer import LsqQuantizer
from amed_opt.evaluation.quantization._quantizer import WeightQuantizer


__all__ = [
    "MIN_STEP",
    "ActivationQuantizer",
    "LsqQuantizer",
    "QuantConv2d",
    "QuantLinear",
    "QuantizedLayer",
    "WeightQuantizer",
    "calibrate",
    "fake_quantize",
    "fused_fake_quantize",
    "mse_optimal_step",
    "quant_range",
    "quantization_disabled",
    "quantize_model",
    "quantized_layers",
    "recalibrate_batchnorm",
    "set_bits",
]
