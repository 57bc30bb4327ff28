"""The course's Spanish terms and the English ones that papers, PyTorch and forums use, in one place.

Every lab ends with a short glossary of its own terms (:func:`glossary_markdown`), which ``course build``
writes as the notebook's last cell. One Spanish term per English one across the five labs: a test checks
that each lab's text uses the Spanish term its glossary gives.
"""

#: English term -> (the Spanish term the labs use, a few words on what it is).
TERMS = {
    "convolution": ("convolución", "filtro que recorre la imagen y suma productos"),
    "kernel (filter)": ("kernel (filtro)", "los pesos de una convolución"),
    "stride": ("paso", "cuántos píxeles avanza la ventana"),
    "padding": ("relleno", "ceros añadidos alrededor de la entrada"),
    "max pooling": ("max pooling", "el máximo de cada ventana"),
    "receptive field": ("campo receptivo", "la zona de la entrada que ve una neurona"),
    "fully connected": ("totalmente conectada", "cada salida depende de todas las entradas"),
    "activation map": ("mapa de activación", "la salida de un filtro sobre la imagen"),
    "pretrained": ("preentrenada", "una red ya entrenada en otro conjunto, p. ej. ImageNet"),
    "batch": ("lote", "los ejemplos de un paso de entrenamiento"),
    "epoch": ("época", "una pasada completa por el entrenamiento"),
    "learning rate": ("tasa de aprendizaje", "el tamaño de cada paso del optimizador"),
    "loss function": ("pérdida", "lo que el entrenamiento minimiza"),
    "cross-entropy": ("entropía cruzada", "la pérdida de la clasificación"),
    "accuracy": ("exactitud", "fracción de aciertos"),
    "overfitting": ("sobreajuste", "memorizar el entrenamiento y generalizar peor"),
    "confusion matrix": ("matriz de confusión", "clase verdadera frente a clase predicha"),
    "validation set": ("validación", "datos apartados para elegir sin mirar la prueba"),
    "test set": ("prueba", "datos que solo se usan para la cifra final"),
    "fine-tuning": ("ajuste fino", "seguir entrenando una red preentrenada"),
    "freeze": ("congelar", "dejar fijos unos parámetros"),
    "head": ("cabeza", "las últimas capas, propias de la tarea"),
    "feature extraction": ("extracción de características", "usar la red preentrenada sin entrenarla"),
    "data augmentation": ("aumento de datos", "variar al azar cada imagen al entrenar"),
    "multiply-adds (MACs)": ("mult-adds", "el coste de cálculo de una capa"),
    "batch normalization": ("normalización por lotes", "BN: normaliza cada canal con las cifras del lote"),
    "growth rate": ("tasa de crecimiento", "los mapas nuevos de cada capa de un bloque denso"),
    "bottleneck": ("cuello de botella", "una convolución 1×1 que reduce canales antes de la 3×3"),
    "pre-activation": ("pre-activación", "BN y ReLU antes de cada convolución (ResNet v2)"),
    "learning rate schedule": ("planificador", "cómo cambia la tasa de aprendizaje por época"),
    "checkpoint": ("checkpoint", "los pesos guardados para retomar o recuperar el mejor modelo"),
    "saliency map": ("mapa de saliencia", "cuánto influye cada píxel en una puntuación"),
}

#: The English terms each lab's glossary lists, in the order the lab introduces them.
LAB_TERMS = {
    "lab1_convolutions": ["convolution", "kernel (filter)", "stride", "padding", "max pooling",
                          "activation map", "fully connected", "pretrained"],
    "lab2_mnist": ["batch", "fully connected", "loss function", "cross-entropy", "learning rate", "epoch",
                   "accuracy", "overfitting", "confusion matrix"],
    "lab3_vgg16": ["receptive field", "multiply-adds (MACs)", "pretrained", "freeze", "head",
                   "fine-tuning", "validation set"],
    "lab4_cifar10_transfer": ["pretrained", "feature extraction", "freeze", "head", "fine-tuning",
                              "data augmentation", "overfitting", "accuracy"],
    "lab5_fer2013": ["batch normalization", "growth rate", "bottleneck", "pre-activation", "data augmentation",
                     "learning rate schedule", "checkpoint", "validation set", "saliency map"],
}

TITLE = "## Glosario español ↔ inglés"


def glossary_markdown(lab: str) -> str:
    """``lab``'s glossary as a Markdown table (Spanish): the term used here, the English one, what it is."""
    rows = [TITLE, "", "Los términos de este laboratorio y cómo los vas a encontrar en inglés (artículos, "
            "documentación de PyTorch, foros).", "", "| en el curso | en inglés | qué es |", "|---|---|---|"]
    for english in LAB_TERMS[lab]:
        spanish, what = TERMS[english]
        rows.append(f"| {spanish} | *{english}* | {what} |")
    return "\n".join(rows)
