"""Student-style submissions written independently of the answer keys, to prove the autograder is fair.

For every lab: at least two correct submissions written in a different style from the key (loops
instead of vectorised code, ``nn.Sequential`` instead of attributes, ``F.dropout`` instead of
``nn.Dropout``, other variable names...), which must get full automatic marks, and submissions with
exactly one mistake, or one shortcut an exercise forbids (``F.max_pool2d`` through an alias in the
hand-written max pooling), which must lose exactly the points of the test cells named in ``loses``.

A submission starts from the perfect one (the key pasted into every solution cell) and replaces only
the cells it names, so whatever it loses is due to those cells alone.
"""
from dataclasses import dataclass, field

import nbformat

from helpers.instructor import build, nbgrader_io


@dataclass
class Submission:
    """Solution cells to replace (``grade_id`` -> source) and the test cells that must lose all their points."""

    about: str
    cells: dict[str, str]
    loses: set[str] = field(default_factory=set)


def notebook(lab: str, submission: Submission):
    """The release notebook of ``lab`` with the key's answers, except the cells ``submission`` replaces."""
    nb = build.student_version(lab, "all")
    found = set()
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in submission.cells:
            cell.source = submission.cells[grade_id]
            found.add(grade_id)
    missing = set(submission.cells) - found
    assert not missing, f"{lab} has no solution cells {missing}"
    return nb


def graded_cell_points(lab: str) -> dict[str, float]:
    """``grade_id`` -> points of every autograded test cell of ``lab``."""
    nb = nbgrader_io.read_notebook(build.lab_notebook("release", lab))
    return {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"] for c in nb.cells
            if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")}


# --------------------------------------------------------------------------- lab 1

LAB1_LOOPS = Submission("bucles explícitos, capas como atributos y F en forward", {
    "maxpool_layer": """\
pool = nn.MaxPool2d(2)  # el paso por defecto es el tamaño de la ventana
y_pool = pool(x)
print(y_pool)
""",
    "maxpool_manual": """\
def max_pool2d_manual(x, kernel_size, stride):
    n, c, h, w = x.shape
    alto = (h - kernel_size) // stride + 1
    ancho = (w - kernel_size) // stride + 1
    salida = torch.empty(n, c, alto, ancho)
    for i in range(alto):
        for j in range(ancho):
            ventana = x[:, :, i * stride:i * stride + kernel_size, j * stride:j * stride + kernel_size]
            salida[:, :, i, j] = ventana.reshape(n, c, -1).max(dim=2).values
    return salida
""",
    "conv_manual": """\
def conv2d_manual(x, weight, bias=None, stride=1, padding=0):
    if padding:
        x = F.pad(x, [padding] * 4)
    n, _, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    alto, ancho = (h - kh) // stride + 1, (w - kw) // stride + 1
    salida = torch.zeros(n, c_out, alto, ancho)
    for i in range(alto):
        for j in range(ancho):
            trozo = x[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            for o in range(c_out):
                salida[:, o, i, j] = (trozo * weight[o]).sum(dim=(1, 2, 3))
    if bias is not None:
        for o in range(c_out):
            salida[:, o] += bias[o]
    return salida
""",
    "output_size": """\
import math


def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    efectivo = dilation * (kernel_size - 1) + 1  # lado que cubre el filtro dilatado
    return int(math.floor((size + 2 * padding - efectivo) / stride)) + 1
""",
    "conv_chain": """\
conv1, conv2 = nn.Conv2d(3, 7, 5, bias=False), nn.Conv2d(7, 2, 3, bias=False)
feature_map1 = conv1(entrada_19)
feature_map2 = conv2(feature_map1)
print("pesos de conv1:", tuple(conv1.weight.shape), "→ mapa 1:", tuple(feature_map1.shape))
print("pesos de conv2:", tuple(conv2.weight.shape), "→ mapa 2:", tuple(feature_map2.shape))
""",
    "count_params": """\
def n_parameters(model):
    total = 0
    for nombre, tensor in model.named_parameters():
        total += tensor.numel()
    return total

alexnet_params, vgg16_params = n_parameters(alexnet_tv), n_parameters(vgg16_tv)
print(f"AlexNet: {alexnet_params:,} parámetros · VGG16: {vgg16_params:,} parámetros")
""",
    "normalize_filters": """\
def normalize_filters(weight):
    salida = torch.empty_like(weight)
    with torch.no_grad():
        for i in range(weight.shape[0]):
            filtro = weight[i]
            salida[i] = (filtro - filtro.min()) / (filtro.max() - filtro.min())
    return salida
""",
    "activation_maps": """\
def activation_maps(model, layer, images):
    guardado = {}

    def guardar(modulo, entrada, salida):
        guardado["mapas"] = salida.clone()

    gancho = layer.register_forward_hook(guardar)
    estaba_entrenando = model.training
    try:
        model.train(False)
        with torch.inference_mode():
            model(images)
    finally:
        gancho.remove()
        model.train(estaba_entrenando)
    return guardado["mapas"]
""",
    "alexnet": """\
class AlexNet(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        self.c1 = nn.Conv2d(3, 64, 11, stride=4, padding=2)
        self.c2 = nn.Conv2d(64, 192, 5, padding=2)
        self.c3 = nn.Conv2d(192, 384, 3, padding=1)
        self.c4 = nn.Conv2d(384, 256, 3, padding=1)
        self.c5 = nn.Conv2d(256, 256, 3, padding=1)
        self.fc1 = nn.Linear(9216, 4096)
        self.fc2 = nn.Linear(4096, 4096)
        self.fc3 = nn.Linear(4096, num_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 3, 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 3, 2)
        x = F.relu(self.c3(x))
        x = F.relu(self.c4(x))
        x = F.max_pool2d(F.relu(self.c5(x)), 3, 2)
        x = F.adaptive_avg_pool2d(x, 6).view(x.size(0), -1)
        x = F.relu(self.fc1(F.dropout(x, 0.5, self.training)))
        x = F.relu(self.fc2(F.dropout(x, 0.5, self.training)))
        return self.fc3(x)
""",
})

LAB1_FLAT = Submission("una sola nn.Sequential, desplazamientos del filtro y einsum distinto", {
    "normalize_filters": """\
def normalize_filters(weight):
    w = weight.detach()
    minimo = w.amin(dim=(1, 2, 3), keepdim=True)
    return (w - minimo) / (w.amax(dim=(1, 2, 3), keepdim=True) - minimo)
""",
    "maxpool_manual": """\
def max_pool2d_manual(x, kernel_size, stride):
    h_out = (x.shape[2] - kernel_size) // stride + 1
    w_out = (x.shape[3] - kernel_size) // stride + 1
    # cada desplazamiento (a, b) dentro de la ventana da un candidato; el máximo de todos es la salida
    candidatos = [x[:, :, a:a + stride * h_out:stride, b:b + stride * w_out:stride]
                  for a in range(kernel_size) for b in range(kernel_size)]
    return torch.stack(candidatos).max(dim=0).values
""",
    "conv_manual": """\
def conv2d_manual(x, weight, bias=None, stride=1, padding=0):
    x = F.pad(x, (padding,) * 4)
    kh, kw = weight.shape[2], weight.shape[3]
    h_out = (x.shape[2] - kh) // stride + 1
    w_out = (x.shape[3] - kw) // stride + 1
    out = 0
    for a in range(kh):
        for b in range(kw):
            trozo = x[:, :, a:a + stride * h_out:stride, b:b + stride * w_out:stride]  # (N, C_in, H_out, W_out)
            out = out + torch.einsum("nihw,oi->nohw", trozo, weight[:, :, a, b])
    return out if bias is None else out + bias[None, :, None, None]
""",
    "alexnet": """\
class AlexNet(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        self.red = nn.Sequential(
            nn.Conv2d(3, 64, 11, 4, 2), nn.ReLU(), nn.MaxPool2d(3, 2),
            nn.Conv2d(64, 192, 5, 1, 2), nn.ReLU(), nn.MaxPool2d(3, 2),
            nn.Conv2d(192, 384, 3, 1, 1), nn.ReLU(),
            nn.Conv2d(384, 256, 3, 1, 1), nn.ReLU(),
            nn.Conv2d(256, 256, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(3, 2),
            nn.AdaptiveAvgPool2d(6), nn.Flatten(),
            nn.Dropout(), nn.Linear(256 * 36, 4096), nn.ReLU(),
            nn.Dropout(), nn.Linear(4096, 4096), nn.ReLU(),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        return self.red(x)
""",
})

LAB1_NO_BIAS = Submission("un error: conv2d_manual olvida el sesgo", {
    "conv_manual": LAB1_FLAT.cells["conv_manual"].replace(
        "    return out if bias is None else out + bias[None, :, None, None]", "    return out"),
}, loses={"test_conv_manual"})

LAB1_NO_RELU = Submission("un error: falta la ReLU tras la tercera convolución de AlexNet", {
    "alexnet": LAB1_LOOPS.cells["alexnet"].replace("x = F.relu(self.c3(x))", "x = self.c3(x)"),
}, loses={"test_alexnet_same_logits"})

LAB1_POOL_ALIAS = Submission("un atajo: max_pool2d_manual llama a F.max_pool2d con otro nombre, guardado antes", {
    "maxpool_manual": """\
atajo = F.max_pool2d  # guardado antes de que la prueba prohíba nada


def max_pool2d_manual(x, kernel_size, stride):
    return atajo(x, kernel_size, stride)
""",
}, loses={"test_maxpool_manual"})

LAB1_CONV_IM2COL = Submission("un atajo: conv2d_manual con F.unfold (im2col) y un producto de matrices", {
    "conv_manual": """\
def conv2d_manual(x, weight, bias=None, stride=1, padding=0):
    n, _, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    columnas = F.unfold(x, (kh, kw), padding=padding, stride=stride)  # (N, C_in·kh·kw, posiciones)
    alto, ancho = (h + 2 * padding - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1
    salida = (weight.reshape(c_out, -1) @ columnas).reshape(n, c_out, alto, ancho)
    return salida if bias is None else salida + bias.reshape(1, -1, 1, 1)
""",
}, loses={"test_conv_manual"})

# --------------------------------------------------------------------------- lab 2

LAB2_SEQUENTIAL = Submission("nn.Sequential, bucle con otro orden y recuento vectorizado", {
    "mlp": """\
class MultiLayerNN(nn.Module):
    \"\"\"Red multicapa para MNIST: 784 → 512 → 512 → 10, con ReLU tras cada capa oculta.\"\"\"

    def __init__(self):
        super().__init__()
        self.capas = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                                   nn.Linear(512, 10))

    def forward(self, x):
        return self.capas(x)
""",
    "train_epoch": """\
def train_epoch(model, loader, loss_fn, optimizer, device="cpu"):
    \"\"\"Entrena `model` una pasada completa sobre `loader` y devuelve la lista de pérdidas de cada lote.\"\"\"
    model.train()
    batch_losses = []
    for inputs, labels in loader:
        inputs, labels = inputs.to(device), labels.to(device)
        loss = loss_fn(model(inputs), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        batch_losses.append(float(loss.detach()))
    return batch_losses
""",
    "evaluate_accuracy": """\
def evaluate_accuracy(model, dataset, device="cpu"):
    \"\"\"Exactitud general (float) y por dígito (lista de 10 float) de `model` sobre `dataset`.\"\"\"
    model.to(device)
    model.eval()
    correct_per_digit = torch.zeros(10)  # aciertos de cada dígito
    total_per_digit = torch.zeros(10)    # imágenes de cada dígito
    loader = DataLoader(dataset, batch_size=1000, shuffle=False)
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            aciertos = (model(images).argmax(1) == labels).float().cpu()
            correct_per_digit += torch.bincount(labels.cpu(), weights=aciertos, minlength=10)
            total_per_digit += torch.bincount(labels.cpu(), minlength=10)
    overall_accuracy = float(correct_per_digit.sum() / total_per_digit.sum())
    accuracy_per_digit = [float(a) for a in correct_per_digit / total_per_digit]
    return overall_accuracy, accuracy_per_digit
""",
    "cnn": """\
class CNN(nn.Module):
    \"\"\"LeNet con ReLU para MNIST: dos bloques convolución + max pooling y tres capas lineales.\"\"\"

    def __init__(self):
        super().__init__()
        self.extractor = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.clasificador = nn.Sequential(
            nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
        )

    def forward(self, x):
        return self.clasificador(self.extractor(x))
""",
    "most_confused": """\
def most_confused_pair(cm):
    \"\"\"(verdadero, predicho) de la casilla fuera de la diagonal de `cm` con el recuento más alto.\"\"\"
    cm = torch.as_tensor(cm)
    fuera = cm * (1 - torch.eye(cm.shape[0], dtype=cm.dtype))
    fila, columna = divmod(int(torch.argmax(fuera)), cm.shape[1])
    return fila, columna
""",
    "lr_sweep": """\
def lr_sweep(make_model, loader, rates, loss_fn, device="cpu"):
    def una_tasa(lr):
        red = make_model().to(device)
        perdidas = torch.tensor(train_epoch(red, loader, loss_fn, optim.SGD(red.parameters(), lr), device))
        return perdidas.mean().item()
    return {lr: una_tasa(lr) for lr in rates}
""",
})

LAB2_LOOPS = Submission("capas sueltas con F, recuento con bucles de Python, cuentas a mano", {
    "mlp": """\
class MultiLayerNN(nn.Module):
    \"\"\"Red multicapa para MNIST: 784 → 512 → 512 → 10, con ReLU tras cada capa oculta.\"\"\"

    def __init__(self):
        super().__init__()
        self.oculta1 = nn.Linear(784, 512)
        self.oculta2 = nn.Linear(512, 512)
        self.salida = nn.Linear(512, 10)

    def forward(self, x):
        x = torch.flatten(x, 1)
        return self.salida(torch.relu(self.oculta2(torch.relu(self.oculta1(x)))))
""",
    "evaluate_accuracy": """\
def evaluate_accuracy(model, dataset, device="cpu"):
    \"\"\"Exactitud general (float) y por dígito (lista de 10 float) de `model` sobre `dataset`.\"\"\"
    model.to(device)
    model.eval()
    correct_per_digit = torch.zeros(10)  # aciertos de cada dígito
    total_per_digit = torch.zeros(10)    # imágenes de cada dígito
    loader = DataLoader(dataset, batch_size=1000, shuffle=False)
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            for verdadero, predicho in zip(labels.tolist(), model(images).argmax(dim=1).tolist()):
                total_per_digit[verdadero] += 1
                if verdadero == predicho:
                    correct_per_digit[verdadero] += 1
    overall_accuracy = correct_per_digit.sum().item() / total_per_digit.sum().item()
    accuracy_per_digit = [correct_per_digit[d].item() / total_per_digit[d].item() for d in range(10)]
    return overall_accuracy, accuracy_per_digit
""",
    "param_counts": """\
def linear_params(n_in, n_out):
    \"\"\"Parámetros de nn.Linear(n_in, n_out), sesgo incluido.\"\"\"
    return (n_in + 1) * n_out


def conv_params(c_in, c_out, kernel_size):
    \"\"\"Parámetros de nn.Conv2d(c_in, c_out, kernel_size), sesgo incluido.\"\"\"
    return (c_in * kernel_size ** 2 + 1) * c_out


capas_mlp = [(784, 512), (512, 512), (512, 10)]
params_mlp = sum(linear_params(a, b) for a, b in capas_mlp)
params_cnn = conv_params(1, 6, 5) + conv_params(6, 16, 5) + sum(linear_params(a, b) for a, b in [(400, 120), (120, 84), (84, 10)])
print(f"MultiLayerNN: {params_mlp:,} parámetros · CNN: {params_cnn:,} parámetros "
      f"({params_mlp / params_cnn:.1f} veces menos)")
""",
    "feature_sizes": """\
def cnn_feature_sizes(side=28):
    \"\"\"{capa: (lado de entrada, lado de salida, mapas de salida)} de conv1, pool1, conv2 y pool2.\"\"\"
    tamaños, lado = {}, side
    for capa, filtro, relleno, paso, mapas in [("conv1", 5, 2, 1, 6), ("pool1", 2, 0, 2, 6),
                                               ("conv2", 5, 0, 1, 16), ("pool2", 2, 0, 2, 16)]:
        nuevo = (lado - filtro + 2 * relleno) // paso + 1
        tamaños[capa] = (lado, nuevo, mapas)
        lado = nuevo
    return tamaños


print("capa    entrada   salida   mapas")
for capa, (entra, sale, mapas) in cnn_feature_sizes(28).items():
    print(f"{capa:<6} {entra:>4}×{entra:<4} {sale:>3}×{sale:<4} {mapas:>4}")
""",
    "lr_sweep": """\
def lr_sweep(make_model, loader, rates, loss_fn, device="cpu"):
    salida = dict()
    for i in range(len(rates)):
        red = make_model()
        red.to(device)
        perdidas = train_epoch(red, loader, loss_fn, optim.SGD(params=red.parameters(), lr=rates[i]), device)
        salida[rates[i]] = sum(perdidas) / len(perdidas)
    return salida
""",
})

LAB2_SWAPPED = Submission("un error: most_confused_pair devuelve (predicho, verdadero)", {
    "most_confused": LAB2_SEQUENTIAL.cells["most_confused"].replace("return fila, columna", "return columna, fila"),
}, loses={"test_most_confused"})

LAB2_ONE_NET = Submission("un error: lr_sweep entrena la misma red con todas las tasas", {
    "lr_sweep": """\
def lr_sweep(make_model, loader, rates, loss_fn, device="cpu"):
    red = make_model().to(device)
    return {lr: float(np.mean(train_epoch(red, loader, loss_fn, optim.SGD(red.parameters(), lr=lr), device)))
            for lr in rates}
""",
}, loses={"test_lr_sweep"})

LAB2_COUNTED = Submission("un atajo: linear_params y conv_params cuentan con count_parameters", {
    "param_counts": """\
def linear_params(n_in, n_out):
    \"\"\"Parámetros de nn.Linear(n_in, n_out), sesgo incluido.\"\"\"
    return count_parameters(nn.Linear(n_in, n_out))


def conv_params(c_in, c_out, kernel_size):
    \"\"\"Parámetros de nn.Conv2d(c_in, c_out, kernel_size), sesgo incluido.\"\"\"
    return count_parameters(nn.Conv2d(c_in, c_out, kernel_size))


params_mlp = linear_params(784, 512) + linear_params(512, 512) + linear_params(512, 10)
params_cnn = (conv_params(1, 6, 5) + conv_params(6, 16, 5)
              + linear_params(16 * 5 * 5, 120) + linear_params(120, 84) + linear_params(84, 10))
print(f"MultiLayerNN: {params_mlp:,} parámetros · CNN: {params_cnn:,} parámetros")
""",
}, loses={"test_param_counts"})

LAB2_RUNS_THE_NET = Submission("un atajo: cnn_feature_sizes ejecuta las capas de una CNN nueva y mide los mapas", {
    "feature_sizes": """\
def cnn_feature_sizes(side=28):
    \"\"\"{capa: (lado de entrada, lado de salida, mapas de salida)} de conv1, pool1, conv2 y pool2.\"\"\"
    convoluciones = [m for m in CNN().modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        a = convoluciones[0](torch.zeros(1, 1, side, side))
        b = F.max_pool2d(a, 2, 2)
        c = convoluciones[1](b)
        d = F.max_pool2d(c, 2, 2)
    return {"conv1": (side, a.shape[-1], a.shape[1]), "pool1": (a.shape[-1], b.shape[-1], b.shape[1]),
            "conv2": (b.shape[-1], c.shape[-1], c.shape[1]), "pool2": (c.shape[-1], d.shape[-1], d.shape[1])}


print(cnn_feature_sizes(28))
""",
}, loses={"test_feature_sizes"})

LAB2_MLP_UNFINISHED = Submission("sin terminar: el ejercicio 3.2 queda como viene; la CNN entrena y aprueba igual", {
    "setup_mlp": """\
seed_everything(0)  # la misma inicialización cada vez que se ejecuta el cuaderno
# TU CÓDIGO AQUÍ
raise NotImplementedError()""",
}, loses={"test_setup_mlp", "test_train_mlp", "test_save_load", "test_param_counts"})

LAB2_WHOLE_MODEL = Submission("un error: save_weights guarda el modelo entero y load_weights lo recupera sin restricciones", {
    "save_load": """\
def save_weights(model, path):
    torch.save(model, path)


def load_weights(model_class, path, device="cpu"):
    return torch.load(path, map_location=device, weights_only=False).to(device)
""",
}, loses={"test_save_load"})

# --------------------------------------------------------------------------- lab 3

LAB3_LOOPS = Submission("bucles y diccionarios, capas como atributos, F.softmax y sorted", {
    "params_by_type": """\
def parameters_by_layer_type(model):
    conv = sum(p.numel() for m in model.modules() if isinstance(m, nn.Conv2d) for p in m.parameters())
    linear = sum(p.numel() for m in model.modules() if isinstance(m, nn.Linear) for p in m.parameters())
    return {"conv": conv, "linear": linear}

reparto = parameters_by_layer_type(vgg16_tv)
print(f"Convolucionales: {reparto['conv']:,} · totalmente conectadas: {reparto['linear']:,}")
""",
    "conv_cost": """\
def conv_cost(in_channels, out_channels, size):
    pesos = out_channels * in_channels * 9
    sesgos = out_channels
    posiciones = size * size
    return pesos + sesgos, (pesos + sesgos) * posiciones, out_channels * posiciones
""",
    "make_features": """\
def _bloques(convs_por_bloque):
    anchos = [64, 128, 256, 512, 512]
    cfg = []
    for ancho, n in zip(anchos, convs_por_bloque):
        cfg += [ancho] * n + ["M"]
    return cfg


VGG_CONFIGS = {"vgg11": _bloques([1, 1, 2, 2, 2]), "vgg13": _bloques([2, 2, 2, 2, 2]),
               "vgg16": _bloques([2, 2, 3, 3, 3]), "vgg19": _bloques([2, 2, 4, 4, 4])}


def make_features(cfg, in_channels=3):
    capas = nn.Sequential()
    canales = in_channels
    for elemento in cfg:
        if isinstance(elemento, str):
            capas.append(nn.MaxPool2d(2, 2))
        else:
            capas.append(nn.Conv2d(canales, elemento, 3, padding=1))
            capas.append(nn.ReLU())
            canales = elemento
    return capas
""",
    "vgg_class": """\
class VGG(nn.Module):
    def __init__(self, cfg, num_classes=1000):
        super().__init__()
        self.cuerpo = make_features(cfg)
        self.fc1 = nn.Linear(25088, 4096)
        self.fc2 = nn.Linear(4096, 4096)
        self.fc3 = nn.Linear(4096, num_classes)

    def forward(self, x):
        x = F.adaptive_avg_pool2d(self.cuerpo(x), (7, 7)).flatten(1)
        x = F.dropout(F.relu(self.fc1(x)), 0.5, self.training)
        x = F.dropout(F.relu(self.fc2(x)), 0.5, self.training)
        return self.fc3(x)
""",
    "classify_image": """\
def classify_image(path, model, weights, k=5):
    model = model.eval()
    x = prepare_image(path, weights).to(next(model.parameters()).device)
    with torch.no_grad():
        probabilidades = F.softmax(model(x), dim=-1).squeeze(0).cpu()
    nombres = weights.meta["categories"]
    orden = sorted(range(len(probabilidades)), key=lambda i: -float(probabilidades[i]))[:k]
    return [(nombres[i], float(probabilidades[i])) for i in orden]
""",
    "adapt_vgg16": """\
def adapt_vgg16(model, num_classes=7, unfrozen_convs=0):
    model.requires_grad_(False)
    convs = [m for m in model.features.modules() if isinstance(m, nn.Conv2d)]
    if unfrozen_convs > 0:
        for conv in convs[-unfrozen_convs:]:
            for p in conv.parameters():
                p.requires_grad = True
    ultima = len(model.classifier) - 1
    model.classifier[ultima] = nn.Linear(4096, num_classes)
    return model
""",
    "accuracy_per_emotion": """\
def accuracy_per_emotion(predicted, true):
    resultado = {}
    for k, nombre in enumerate(FER_NAMES_ES):
        de_esta = true == k
        resultado[nombre] = float((predicted[de_esta] == k).float().mean()) if de_esta.any() else float("nan")
    return resultado
""",
})

LAB3_OTHER = Submission("transformaciones a mano con PIL y torchvision.transforms.v2, canal repetido con repeat", {
    "prepare_image": """\
def prepare_image(path, weights):
    with Image.open(path) as imagen:
        rgb = imagen.convert("RGB")
    transformar = weights.transforms()
    return torch.stack([transformar(rgb)])
""",
    "fer_to_vgg": """\
def fer_to_vgg(images, size):
    grande = F.interpolate(images, size=size, mode="bilinear")
    color = grande.repeat(1, 3, 1, 1)
    media = torch.as_tensor(MEDIA_IMAGENET, dtype=color.dtype, device=color.device)[None, :, None, None]
    desviacion = torch.as_tensor(DESVIACION_IMAGENET, dtype=color.dtype, device=color.device)[None, :, None, None]
    return (color - media) / desviacion
""",
    "accuracy_per_emotion": """\
def accuracy_per_emotion(predicted, true):
    valores = per_class_accuracy(predicted, true, 7).tolist()
    return dict(zip(FER_NAMES_ES, valores))
""",
})

LAB3_MINUS_ZERO = Submission("un error: convs[-unfrozen_convs:] descongela todas con unfrozen_convs=0", {
    "adapt_vgg16": LAB3_LOOPS.cells["adapt_vgg16"].replace(
        "    if unfrozen_convs > 0:\n        for conv in convs[-unfrozen_convs:]:\n            for p in conv.parameters():\n"
        "                p.requires_grad = True",
        "    for conv in convs[-unfrozen_convs:]:\n        for p in conv.parameters():\n            p.requires_grad = True"),
}, loses={"test_adapt_head"})

# --------------------------------------------------------------------------- lab 4

LAB4_FUNCTIONAL = Submission("F.dropout en una clase propia, otros nombres de tensores en B, v2 de torchvision", {
    "transform": """\
def make_transform(image_size=32):
    normalizar = transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    return transforms.Compose([transforms.Resize([image_size, image_size]), transforms.ToTensor(), normalizar])
""",
    "head": """\
import torch.nn.functional as F


class Cabeza(nn.Module):
    def __init__(self, entrada, clases):
        super().__init__()
        self.oculta = nn.Linear(entrada, 256)
        self.salida = nn.Linear(256, clases)

    def forward(self, x):
        x = F.relu(self.oculta(x))
        return self.salida(F.dropout(x, p=0.5, training=self.training))


def make_head(in_features=512, num_classes=10):
    return Cabeza(in_features, num_classes)
""",
    "build_model": """\
def build_model(config, vgg):
    if config not in {"A", "B", "C"}:
        raise ValueError("Configuración desconocida: usa 'A', 'B' o 'C'.")
    cuerpo = copy.deepcopy(vgg.features)
    if config in ("A", "B"):
        for p in cuerpo.parameters():
            p.requires_grad = False
    backbone = nn.Sequential(cuerpo, nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(1))
    return TransferModel(backbone, make_head())
""",
    "optimizer": """\
def make_optimizer(model, lr):
    return torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()), lr)
""",
    "cache_features": """\
def cache_features(backbone, loader, device):
    backbone.to(device)
    backbone.eval()
    salidas = []
    etiquetas = []
    for x, y in loader:
        with torch.inference_mode():
            salidas.append(backbone(x.to(device)).to("cpu"))
        etiquetas.append(y.to("cpu"))
    return torch.cat(salidas).clone(), torch.cat(etiquetas)
""",
    "config_b": """\
medidor = build_model("B", vgg16_tv)
time_in_loop = fit(medidor, train_loader, loss_fn, make_optimizer(medidor, 1e-3), epochs=1).total_seconds

model_b = build_model("B", vgg16_tv)
t0 = time.perf_counter()
x_ent, y_ent = cache_features(model_b.backbone, train_loader, perfil.device)
x_val, y_val = cache_features(model_b.backbone, val_loader, perfil.device)
x_pru, y_pru = cache_features(model_b.backbone, test_loader, perfil.device)
extraction_seconds = time.perf_counter() - t0
train_feature_loader = TensorLoader(x_ent, y_ent, batch_size=BATCH_SIZE, shuffle=True, seed=1)
val_feature_loader = TensorLoader(x_val, y_val, batch_size=BATCH_SIZE)
test_feature_loader = TensorLoader(x_pru, y_pru, batch_size=BATCH_SIZE)
history_b = fit(model_b.head, train_feature_loader, loss_fn, make_optimizer(model_b.head, 1e-3),
                epochs=EPOCHS, val_loader=val_feature_loader)
time_cached = sum(history_b.seconds) / len(history_b.seconds)
speedup_b = time_in_loop / time_cached
print(f"Una época con la parte convolucional en el bucle: {time_in_loop:.2f} s")
print(f"Extracción (una sola vez): {extraction_seconds:.2f} s · una época sobre las características: {time_cached:.4f} s")
print(f"Cada época es {speedup_b:.0f} veces más rápida; en {EPOCHS} época(s): "
      f"{EPOCHS * time_in_loop:.1f} s frente a {extraction_seconds + EPOCHS * time_cached:.1f} s")
""",
})

LAB4_OTHER = Submission("cabeza como OrderedDict, la de C copiada con deepcopy, resultados calculados de nuevo con "
                        "evaluate", {
    "config_c_start": """\
model_c = build_model("C", vgg16_tv)
model_c.head = copy.deepcopy(model_b.head)
""",
    "head": """\
from collections import OrderedDict


def make_head(in_features=512, num_classes=10):
    return nn.Sequential(OrderedDict([
        ("fc1", nn.Linear(in_features, 256)), ("relu", nn.ReLU(inplace=True)),
        ("drop", nn.Dropout(p=0.5)), ("fc2", nn.Linear(256, num_classes)),
    ]))
""",
    "config_a": """\
model_a = build_model("A", vgg16_tv)
model_a = model_a.to(perfil.device)
resultado_a = evaluate(model_a, test_loader, loss_fn)
loss_a, acc_a = resultado_a[0], resultado_a[1]
print(f"A, sin entrenar: pérdida {loss_a:.4f}, exactitud {acc_a:.2%}")
""",
    "results": """\
results = {}
for nombre, modelo, ent, pru in [("A", model_a, train_loader, test_loader),
                                 ("B", model_b.head, train_feature_loader, test_feature_loader),
                                 ("C", model_c, train_loader, test_loader)]:
    results[nombre] = tuple(evaluate(modelo, ent, loss_fn)) + tuple(evaluate(modelo, pru, loss_fn))
names = {"A": "A · sin entrenamiento", "B": "B · extracción de características", "C": "C · ajuste fino"}
print(f"{'configuración':<36}{'pérdida ent.':>13}{'exact. ent.':>13}{'pérdida prueba':>16}{'exact. prueba':>15}")
for config, (train_loss, train_acc, test_loss, test_acc) in results.items():
    print(f"{names[config]:<36}{train_loss:>13.4f}{train_acc:>13.2%}{test_loss:>16.4f}{test_acc:>15.2%}")
""",
})

LAB4_ALL_PARAMS = Submission("dos errores: make_optimizer da a Adam también los parámetros congelados, y C empieza "
                             "con una cabeza nueva en vez de la que entrenó B", {
    "optimizer": """\
def make_optimizer(model, lr):
    return torch.optim.Adam(model.parameters(), lr=lr)
""",
    "config_c_start": """\
model_c = build_model("C", vgg16_tv)
""",
}, loses={"test_optimizer", "test_c_start"})

# --------------------------------------------------------------------------- lab 5

LAB5_ATTRIBUTES = Submission("capas como atributos y F.relu, bucles, fracciones en lr_schedule", {
    "class_counts": """\
def class_counts(labels, num_classes=7):
    conteos = torch.zeros(num_classes, dtype=torch.long)
    for etiqueta in torch.as_tensor(labels).tolist():
        conteos[etiqueta] += 1
    return conteos
""",
    "pixel_mean": """\
def pixel_mean(images):
    return images.sum(0) / images.shape[0]


def subtract_pixel_mean(train_images, *other_images):
    media = pixel_mean(train_images)
    resultado = [train_images - media]
    for otras in other_images:
        resultado.append(otras - media)
    return tuple(resultado)
""",
    "augment": """\
import torch.nn.functional as F


def augment(images):
    n, _, h, w = images.shape
    relleno = F.pad(images, (5, 5, 5, 5))
    salida = torch.empty_like(images)
    desplazamientos = torch.randint(0, 11, (n, 2))
    reflejar = torch.rand(n) < 0.5
    for i in range(n):
        dy, dx = desplazamientos[i].tolist()
        recorte = relleno[i, :, dy:dy + h, dx:dx + w]
        salida[i] = recorte.flip(-1) if reflejar[i] else recorte
    return salida
""",
    "densenet_channels": """\
def densenet_channels(depth, growth_rate=12, compression=0.5, num_blocks=4):
    capas, resto = divmod(depth - 4, 2 * num_blocks)
    if depth <= 4 or resto:
        raise ValueError("profundidad no válida")
    canales = 2 * growth_rate
    salida = []
    for b in range(num_blocks):
        canales = canales + capas * growth_rate
        if b != num_blocks - 1:
            canales = int(compression * canales)
        salida.append(canales)
    return salida
""",
    "bottleneck": """\
class Bottleneck(nn.Module):
    def __init__(self, in_channels, growth_rate):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv1 = nn.Conv2d(in_channels, 4 * growth_rate, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(4 * growth_rate)
        self.conv2 = nn.Conv2d(4 * growth_rate, growth_rate, 3, padding=1, bias=False)

    def forward(self, x):
        nuevos = self.conv1(F.relu(self.bn1(x)))
        nuevos = self.conv2(F.relu(self.bn2(nuevos)))
        return torch.cat((x, nuevos), 1)
""",
    "transition": """\
class Transition(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.bn = nn.BatchNorm2d(in_channels)
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=False)

    def forward(self, x):
        return F.avg_pool2d(self.conv(F.relu(self.bn(x))), 2)
""",
    "basic_block": """\
class BasicBlock(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.atajo = None
        if stride > 1 or in_channels != out_channels:
            self.atajo = nn.Conv2d(in_channels, out_channels, 1, stride, bias=False)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.atajo is None else self.atajo(x)))
""",
    "preact_bottleneck": """\
class PreActBottleneck(nn.Module):
    def __init__(self, in_channels, mid_channels, out_channels, stride=1, preactivate=True):
        super().__init__()
        self.preactivate = preactivate
        if preactivate:
            self.bn0 = nn.BatchNorm2d(in_channels)
        self.conv1 = nn.Conv2d(in_channels, mid_channels, 1, stride=stride, bias=False)
        self.bn1 = nn.BatchNorm2d(mid_channels)
        self.conv2 = nn.Conv2d(mid_channels, mid_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(mid_channels)
        self.conv3 = nn.Conv2d(mid_channels, out_channels, 1, bias=False)
        self.atajo = (nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)
                      if stride != 1 or in_channels != out_channels else None)

    def forward(self, x):
        y = F.relu(self.bn0(x)) if self.preactivate else x
        y = F.relu(self.bn1(self.conv1(y)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.conv3(y)
        return y + (self.atajo(x) if self.atajo is not None else x)
""",
    "lr_schedule": """\
def lr_schedule(epoch, total_epochs=200, base_lr=1e-3):
    fraccion = epoch / total_epochs
    if fraccion > 0.9 + 1e-9:
        return base_lr * 0.0005
    if fraccion > 0.8 + 1e-9:
        return base_lr * 0.001
    if fraccion > 0.6 + 1e-9:
        return base_lr * 0.01
    if fraccion > 0.4 + 1e-9:
        return base_lr * 0.1
    return base_lr
""",
    "make_optimizer": """\
def make_optimizer(model, total_epochs, base_lr=1e-3):
    optimizer = torch.optim.Adam(model.parameters(), base_lr)

    def factor(epoca):
        return lr_schedule(epoca, total_epochs, base_lr) / base_lr

    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda=factor)
""",
    "saliency": """\
def saliency_map(model, image, target=None):
    model.eval()
    entrada = image.clone().detach()
    entrada.requires_grad = True
    salida = model(entrada[None])
    if target is None:
        target = salida.argmax(dim=1).item()
    salida[0, target].backward()
    mapa = entrada.grad.abs()
    model.zero_grad()
    return mapa.max(dim=0).values
""",
})

LAB5_SEQUENTIAL = Submission("nn.Sequential con capas añadidas en bucle, ModuleList y Sequential del bloque", {
    "densenet": """\
class DenseNetBC(nn.Module):
    def __init__(self, depth=100, growth_rate=12, compression=0.5, num_blocks=4, num_classes=7, in_channels=1):
        super().__init__()
        tras_bloque = densenet_channels(depth, growth_rate, compression, num_blocks)
        por_bloque = (depth - 4) // (2 * num_blocks)
        self.entrada = nn.Conv2d(in_channels, 2 * growth_rate, 3, padding=1, bias=False)
        self.bloques = nn.ModuleList()
        canales = 2 * growth_rate
        for b in range(num_blocks):
            bloque = nn.Sequential()
            for _ in range(por_bloque):
                bloque.append(Bottleneck(canales, growth_rate))
                canales += growth_rate
            if b < num_blocks - 1:
                bloque.append(Transition(canales, tras_bloque[b]))
                canales = tras_bloque[b]
            self.bloques.append(bloque)
        self.bn = nn.BatchNorm2d(canales)
        self.fc = nn.Linear(canales, num_classes)

    def forward(self, x):
        x = self.entrada(x)
        for bloque in self.bloques:
            x = bloque(x)
        x = F.relu(self.bn(x)).mean(dim=(2, 3))
        return self.fc(x)
""",
    "resnet_v1": """\
class ResNetV1(nn.Module):
    def __init__(self, depth, num_classes=7, in_channels=1):
        super().__init__()
        n, resto = divmod(depth - 2, 6)
        if resto != 0 or n < 1:
            raise ValueError(f"ResNetV1 necesita profundidad 6n + 2, no {depth}")
        self.tallo = nn.Sequential(nn.Conv2d(in_channels, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        bloques, entra = [], 16
        for anchura, paso in [(16, 1), (32, 2), (64, 2)]:
            for i in range(n):
                bloques.append(BasicBlock(entra, anchura, paso if i == 0 else 1))
                entra = anchura
        self.bloques = nn.Sequential(*bloques)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        return self.fc(F.adaptive_avg_pool2d(self.bloques(self.tallo(x)), 1).flatten(1))
""",
    "resnet_v2": """\
class ResNetV2(nn.Module):
    def __init__(self, depth, num_classes=7, in_channels=1):
        super().__init__()
        if (depth - 2) % 9 or depth < 11:
            raise ValueError(f"ResNetV2 necesita profundidad 9n + 2, no {depth}")
        n = (depth - 2) // 9
        capas = [nn.Conv2d(in_channels, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
        entra = 16
        for etapa, (medio, sale) in enumerate([(16, 64), (64, 128), (128, 256)]):
            for i in range(n):
                primero_de_la_red = etapa == 0 and i == 0
                paso = 2 if etapa > 0 and i == 0 else 1
                capas.append(PreActBottleneck(entra, medio, sale, paso, preactivate=not primero_de_la_red))
                entra = sale
        capas += [nn.BatchNorm2d(entra), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(entra, num_classes)]
        self.red = nn.Sequential(*capas)

    def forward(self, x):
        return self.red(x)
""",
    "saliency": """\
def saliency_map(model, image, target=None):
    model.train(False)
    x = image.unsqueeze(0).detach().requires_grad_()
    puntuaciones = model(x).squeeze(0)
    clase = puntuaciones.argmax().item() if target is None else target
    gradiente = torch.autograd.grad(puntuaciones[clase], [x])[0].squeeze(0)
    return torch.stack([c.abs() for c in gradiente]).max(0)[0]
""",
})

LAB5_NO_INNER_RELU = Submission("un error: al cuello de botella de DenseNet le falta la ReLU interior", {
    "bottleneck": LAB5_ATTRIBUTES.cells["bottleneck"].replace(
        "self.conv2(F.relu(self.bn2(nuevos)))", "self.conv2(self.bn2(nuevos))"),
}, loses={"test_bottleneck"})

LAB5_SCHEDULE_OFF_BY_ONE = Submission("un error: lr_schedule recorta al llegar al corte (>=), no al superarlo", {
    "lr_schedule": LAB5_ATTRIBUTES.cells["lr_schedule"].replace(" + 1e-9", " - 1e-9"),
}, loses={"test_lr_schedule"})

LAB5_SIGNED_SALIENCY = Submission("un error: saliency_map devuelve el gradiente con signo, sin valor absoluto", {
    "saliency": LAB5_SEQUENTIAL.cells["saliency"].replace("c.abs() for c in gradiente", "c for c in gradiente"),
}, loses={"test_saliency"})

SUBMISSIONS = {
    "lab1_convolutions": {"bucles": LAB1_LOOPS, "secuencial": LAB1_FLAT, "sin_sesgo": LAB1_NO_BIAS,
                          "sin_relu": LAB1_NO_RELU, "pooling_con_alias": LAB1_POOL_ALIAS,
                          "convolucion_im2col": LAB1_CONV_IM2COL},
    "lab2_mnist": {"secuencial": LAB2_SEQUENTIAL, "bucles": LAB2_LOOPS, "pareja_al_reves": LAB2_SWAPPED,
                   "una_sola_red": LAB2_ONE_NET, "cuenta_con_count_parameters": LAB2_COUNTED,
                   "ejecuta_la_red": LAB2_RUNS_THE_NET, "mlp_sin_terminar": LAB2_MLP_UNFINISHED,
                   "modelo_entero": LAB2_WHOLE_MODEL},
    "lab3_vgg16": {"bucles": LAB3_LOOPS, "otras_transformaciones": LAB3_OTHER, "menos_cero": LAB3_MINUS_ZERO},
    "lab4_cifar10_transfer": {"funcional": LAB4_FUNCTIONAL, "ordereddict": LAB4_OTHER,
                              "todos_los_parametros": LAB4_ALL_PARAMS},
    "lab5_fer2013": {"atributos": LAB5_ATTRIBUTES, "secuencial": LAB5_SEQUENTIAL, "sin_relu": LAB5_NO_INNER_RELU,
                     "corte_adelantado": LAB5_SCHEDULE_OFF_BY_ONE, "saliencia_con_signo": LAB5_SIGNED_SALIENCY},
}
